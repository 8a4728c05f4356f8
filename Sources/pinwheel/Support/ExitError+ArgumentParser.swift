import ArgumentParser

extension ExitError {
    /// The `ExitError` an error carries, if any: itself, or the one a `validate()` threw, which swift-argument-parser
    /// hands back wrapped in its own error (a `CommandError` holding `.userValidationError(error)`, types it does not
    /// export). So `validate()` throws the project's one error type like `run()` does, and `Main` still exits with its
    /// status; the search is by reflection, a few levels deep, and finds nothing in any other error.
    static func thrown(in error: any Error) -> ExitError? {
        find(in: error, depth: 4)
    }

    /// The command whose `validate()` threw, for its usage line; nil when the error does not say.
    static func command(in error: any Error) -> ParsableCommand.Type? {
        for child in Mirror(reflecting: error).children where child.label == "commandStack" {
            return (child.value as? [ParsableCommand.Type])?.last
        }
        return nil
    }

    private static func find(in value: Any, depth: Int) -> ExitError? {
        if let error = value as? ExitError { return error }
        guard depth > 0 else { return nil }
        for child in Mirror(reflecting: value).children {
            if let error = find(in: child.value, depth: depth - 1) { return error }
        }
        return nil
    }
}
