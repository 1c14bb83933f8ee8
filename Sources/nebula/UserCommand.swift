import ArgumentParser
import Foundation
import Logging
import NebulaApp

/// `nebula user …`: account administration from the shell.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage dashboard accounts.",
        subcommands: [CreateUser.self, ListUsers.self, UpdateUser.self]
    )
}

/// Where the store is, as for `serve`.
struct StoreOptions: ParsableArguments {
    @Option(help: "Directory for server state (as for serve).")
    var dataDir = "data"

    @Option(help: "PostgreSQL URL (as for serve); default: SQLite in --data-dir.")
    var databaseURL: String?

    var configuration: ServerConfiguration {
        var configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: dataDir))
        configuration.databaseURL = databaseURL
        return configuration
    }

    var logger: Logger {
        var logger = Logger(label: "nebula")
        logger.logLevel = .warning
        return logger
    }
}

/// One line from standard input: passwords never go in arguments, where `ps` and shell history see them.
func readPassword(for username: String) throws -> String {
    if isatty(STDIN_FILENO) != 0 {
        FileHandle.standardError.write(Data("Password for \(username) (input is not hidden here; pipe it in to avoid echo): ".utf8))
    }
    guard let password = readLine(strippingNewline: true), !password.isEmpty else {
        throw ValidationError("no password on standard input")
    }
    return password
}

/// `nebula user create --username ann --role admin`, the password from stdin or a prompt.
struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an account. The password is read from standard input (one line), never from arguments."
    )

    @Option(help: "Login name: 1-64 characters of letters, digits, . _ - @")
    var username: String

    @Option(help: "admin, operator or viewer.")
    var role = "viewer"

    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard ["admin", "operator", "viewer"].contains(role) else {
            throw ValidationError("--role must be admin, operator or viewer")
        }
    }

    func run() async throws {
        let password = try readPassword(for: username)
        try await UserAdministration.createUser(store.configuration, username: username, password: password, role: role, logger: store.logger)
        print("created \(role) '\(username)'")
    }
}

/// `nebula user list`: id, name, role, 2FA and state, one account per line.
struct ListUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List accounts.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        for line in try await UserAdministration.listUsers(store.configuration, logger: store.logger) { print(line) }
    }
}

/// `nebula user update --username ann --reset-password`: the way back in for a locked-out owner.
struct UpdateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change an account: role, disabled, password (from standard input), or remove its second factor. Its sessions end."
    )

    @Option(help: "The account to change.")
    var username: String

    @Option(help: "New role: admin, operator or viewer.")
    var role: String?

    @Flag(help: "Disable the account (it cannot log in; its sessions end).")
    var disable = false

    @Flag(help: "Enable a disabled account.")
    var enable = false

    @Flag(help: "Set a new password, read from standard input.")
    var resetPassword = false

    @Flag(name: .customLong("remove-2fa"), help: "Turn the account's TOTP second factor off (a lost phone).")
    var removeSecondFactor = false

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let role, !["admin", "operator", "viewer"].contains(role) { throw ValidationError("--role must be admin, operator or viewer") }
        if disable && enable { throw ValidationError("--disable and --enable exclude each other") }
        if role == nil && !disable && !enable && !resetPassword && !removeSecondFactor {
            throw ValidationError("nothing to change: give --role, --disable, --enable, --reset-password or --remove-2fa")
        }
    }

    func run() async throws {
        let password = resetPassword ? try readPassword(for: username) : nil
        let change = UserAdministration.UserChange(
            role: role, disabled: disable ? true : (enable ? false : nil), password: password, removeSecondFactor: removeSecondFactor
        )
        try await UserAdministration.updateUser(store.configuration, username: username, change: change, logger: store.logger)
        print("updated '\(username)'")
    }
}
