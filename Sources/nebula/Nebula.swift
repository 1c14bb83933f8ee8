import ArgumentParser
import Foundation

/// The `nebula` executable: a thin shell over NebulaApp.
@main
struct Nebula: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nebula",
        abstract: "Nebula Command: a self-hosted command center for your homelab.",
        subcommands: [ServeCommand.self, UserCommand.self, KeyCommand.self]
    )

    /// Parses with environment defaults, and reports usage errors as one line with exit code 2.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let environment = ProcessInfo.processInfo.environment
        if arguments.first == "serve" {
            arguments.insert(contentsOf: EnvironmentDefaults.arguments(from: environment), at: 1)
        } else if arguments.count >= 2, ["user", "key"].contains(arguments[0]), !arguments[1].hasPrefix("-") {
            arguments.insert(contentsOf: EnvironmentDefaults.arguments(from: environment, options: ["data-dir", "database-url"], flags: []), at: 2)
        }
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exitAfterParsing(error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var command = command
                try command.run()
            }
        } catch {
            // `--help` arrives here as a help command's "error".
            if exitCode(for: error) == .success || exitCode(for: error) == .validationFailure { exitAfterParsing(error) }
            FileHandle.standardError.write(Data("nebula: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }

    private static func exitAfterParsing(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        if code == .success {
            print(fullMessage(for: error))
            Foundation.exit(0)
        }
        let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
        FileHandle.standardError.write(Data("nebula: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
