import ArgumentParser
import Foundation
import Logging
import NebulaApp

/// `nebula user …`: account administration from the shell.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage dashboard accounts.",
        subcommands: [CreateUser.self]
    )
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

    @Option(help: "Directory for server state (as for serve).")
    var dataDir = "data"

    @Option(help: "PostgreSQL URL (as for serve); default: SQLite in --data-dir.")
    var databaseURL: String?

    func validate() throws {
        guard ["admin", "operator", "viewer"].contains(role) else {
            throw ValidationError("--role must be admin, operator or viewer")
        }
    }

    func run() async throws {
        if isatty(STDIN_FILENO) != 0 {
            FileHandle.standardError.write(Data("Password for \(username) (input is not hidden here; pipe it in to avoid echo): ".utf8))
        }
        guard let password = readLine(strippingNewline: true), !password.isEmpty else {
            throw ValidationError("no password on standard input")
        }
        var configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: dataDir))
        configuration.databaseURL = databaseURL
        var logger = Logger(label: "nebula")
        logger.logLevel = .warning
        try await UserAdministration.createUser(configuration, username: username, password: password, role: role, logger: logger)
        print("created \(role) '\(username)'")
    }
}
