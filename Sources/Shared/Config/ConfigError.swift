/// A configuration problem, reported at start-up before anything connects.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The environment variable at fault, when there is one.
    public var variable: String?
    public var problem: String

    public init(variable: String?, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String {
        if let variable { return "configuration error: \(variable): \(problem)" }
        return "configuration error: \(problem)"
    }
}
