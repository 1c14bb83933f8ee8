import Accounts

extension APIError {
    /// The contract's status and code for each account rule the directory enforces.
    init(_ failure: UserDirectory.Failure) {
        switch failure {
        case .invalidUsername: self.init(.badRequest, code: "bad_request", failure.description)
        case .weakPassword: self.init(.badRequest, code: "weak_password", failure.description)
        case .usernameTaken: self.init(.conflict, code: "conflict", failure.description)
        case .notFound: self.init(.notFound, code: "not_found", failure.description)
        case .lastAdmin: self.init(.conflict, code: "last_admin", failure.description)
        case .wrongPassword: self.init(.forbidden, code: "wrong_password", failure.description)
        }
    }

    init(_ failure: SecondFactor.Failure) {
        switch failure {
        case .invalidCode: self.init(.badRequest, code: "invalid_code", failure.description)
        case .invalidSecret: self.init(.badRequest, code: "bad_request", failure.description)
        case .alreadyEnabled: self.init(.conflict, code: "totp_enabled", failure.description)
        case .notEnabled: self.init(.conflict, code: "totp_not_enabled", failure.description)
        }
    }

    /// Runs `body`, turning account rule failures into their API errors.
    static func mappingAccountFailures<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as UserDirectory.Failure {
            throw APIError(failure)
        } catch let failure as SecondFactor.Failure {
            throw APIError(failure)
        }
    }
}
