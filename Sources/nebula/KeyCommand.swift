import ArgumentParser
import Foundation
import NebulaApp

/// `nebula key …`: API and overlay keys from the shell, as on the dashboard and the HTTP API.
struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage API and overlay keys.",
        subcommands: [CreateKey.self, ListKeys.self, RevokeKey.self]
    )
}

/// `nebula key create --name ci --scope read --scope publish:app`: prints the key once.
struct CreateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a key and print it once; only its hash is kept."
    )

    @Option(help: "A name to recognise the key by (1-100 characters).")
    var name: String

    @Option(name: .customLong("scope"), help: "read, publish:<family>, containers, jobs or admin; repeat for several.")
    var scopes: [String] = []

    @Flag(help: "An overlay key: read-only, limited to overlay.* channels (for OBS URLs).")
    var overlay = false

    @Option(help: "Expiry as an RFC 3339 time, e.g. 2027-01-31T00:00:00Z.")
    var expires: String?

    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard (1...100).contains(name.count) else { throw ValidationError("--name must be 1-100 characters") }
        if !overlay && scopes.isEmpty { throw ValidationError("give at least one --scope (or --overlay)") }
    }

    func run() async throws {
        let created = try await UserAdministration.createKey(
            store.configuration, name: name, overlay: overlay, scopes: scopes, expires: expires, logger: store.logger
        )
        print("key \(created.id): \(created.key)")
        FileHandle.standardError.write(Data("This key is shown once; only its hash is kept.\n".utf8))
    }
}

struct ListKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List keys (never the keys themselves).")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        for line in try await UserAdministration.listKeys(store.configuration, logger: store.logger) { print(line) }
    }
}

/// Revoking takes effect on live connections too: a running server closes them within a second.
struct RevokeKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key by id.")

    @Argument(help: "The key's id (from `nebula key list`).")
    var id: Int64

    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await UserAdministration.revokeKey(store.configuration, id: id, logger: store.logger)
        print("revoked key \(id)")
    }
}
