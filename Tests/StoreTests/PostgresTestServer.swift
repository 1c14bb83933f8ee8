import Foundation

/// A real PostgreSQL server for the tests: `initdb` into a temporary directory and `pg_ctl start`
/// on a free loopback port, once per test process, stopped when the process exits. Uses Debian's
/// `postgresql` package (`scripts/install-deps.sh test` installs it).
enum PostgresTestServer {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Running: Sendable {
        let port: Int
        let directory: String
    }

    private static let started: Result<Running, Failure> = start()

    /// The running server, started on first use.
    static func shared() throws -> Running {
        try started.get()
    }

    /// A fresh, empty database on the shared server; returns its URL.
    static func makeDatabase() throws -> String {
        let server = try shared()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try run(binary("psql"), ["-h", "127.0.0.1", "-p", "\(server.port)", "-U", "postgres", "-d", "postgres", "-qc", "CREATE DATABASE \(name)"])
        return "postgres://postgres@127.0.0.1:\(server.port)/\(name)"
    }

    private static func start() -> Result<Running, Failure> {
        do {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-pg-\(getpid())").path
            try? FileManager.default.removeItem(atPath: directory)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if getuid() == 0 { try run("/bin/chown", ["-R", "postgres:postgres", directory]) }
            let port = try freePort()
            try run(binary("initdb"), ["-D", "\(directory)/data", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], asPostgres: true)
            try run(binary("pg_ctl"), [
                "-D", "\(directory)/data", "-l", "\(directory)/server.log", "-w", "-t", "30",
                "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "start",
            ], asPostgres: true)
            stopDirectory = strdup(directory)
            atexit(stopPostgresTestServer)
            return .success(Running(port: port, directory: directory))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(Failure(description: "\(error)"))
        }
    }

    nonisolated(unsafe) fileprivate static var stopDirectory: UnsafeMutablePointer<CChar>?

    static func binary(_ name: String) throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) } ?? []
        for version in versions where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/\(name)") {
            return "\(root)/\(version)/bin/\(name)"
        }
        throw Failure(description: "PostgreSQL's \(name) was not found under \(root): install Debian's postgresql package (scripts/install-deps.sh test)")
    }

    /// Runs a command to completion with posix_spawn and waitpid: Foundation's Process can miss a
    /// child's exit when the child leaves a daemon behind (pg_ctl start does).
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool = false) throws {
        let argv = (asPostgres && getuid() == 0) ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-pg-cmd-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "\(argv.joined(separator: " ")) failed (status \(status)): \(output)")
        }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs at process exit: the server must not outlive the tests.
private func stopPostgresTestServer() {
    guard let directory = PostgresTestServer.stopDirectory.map({ String(cString: $0) }) else { return }
    try? PostgresTestServer.run(try PostgresTestServer.binary("pg_ctl"), ["-D", "\(directory)/data", "-m", "immediate", "stop"], asPostgres: true)
    try? FileManager.default.removeItem(atPath: directory)
}
