/// Renders a secret for logs and `--check` output: never more than its last four characters.
public func redacted(_ secret: String?) -> String {
    guard let secret, !secret.isEmpty else { return "(not set)" }
    guard secret.count > 8 else { return "****" }
    return "****" + secret.suffix(4)
}
