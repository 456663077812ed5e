/// A `multipart/form-data` body (RFC 7578, framing from RFC 2046 §5.1.1), split into its parts.
///
/// Works on raw bytes: a part's body is everything between its blank line and the next
/// `CRLF--boundary`, NULs and invalid UTF-8 included, since uploaded files are arbitrary binary.
/// Knows nothing about Discord; `MessageUpload` gives the fields their meaning.
struct MultipartFormData: Sendable {
    struct Part: Sendable {
        /// `name` of the part's `Content-Disposition: form-data` header.
        var name: String
        var filename: String?
        /// The part's `Content-Type`, `nil` when it sent none (RFC 7578 then means `text/plain`).
        var contentType: String?
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct ParseError: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    var parts: [Part]

    /// The first part with this name.
    func part(named name: String) -> Part? {
        parts.first { $0.name == name }
    }

    /// The `boundary` parameter of a `multipart/form-data` Content-Type, or `nil` for any other type.
    static func boundary(contentType: String) -> String? {
        let pieces = HeaderParameters(contentType)
        guard pieces.value.lowercased() == "multipart/form-data",
            let boundary = pieces.parameters["boundary"],
            (1...70).contains(boundary.utf8.count)
        else { return nil }
        return boundary
    }

    init(parts: [Part]) {
        self.parts = parts
    }

    init(parsing body: [UInt8], boundary: String) throws(ParseError) {
        let dashBoundary = Array("--\(boundary)".utf8)
        // Every delimiter after the first starts on a new line.
        let delimiter = Array("\r\n".utf8) + dashBoundary
        // A preamble before the first delimiter is allowed and ignored.
        var position: Int
        if body.starts(with: dashBoundary) {
            position = dashBoundary.count
        } else if let found = Self.find(delimiter, in: body, from: 0) {
            position = found + delimiter.count
        } else {
            throw ParseError(description: "no boundary delimiter in the body")
        }
        var parts: [Part] = []
        while true {
            if Self.hasPrefix([0x2D, 0x2D], in: body, at: position) {  // "--": the close delimiter
                self.parts = parts
                return
            }
            // Transport padding (spaces, tabs) may follow a delimiter before its line break.
            while position < body.count, body[position] == 0x20 || body[position] == 0x09 { position += 1 }
            guard Self.hasPrefix([0x0D, 0x0A], in: body, at: position) else {
                throw ParseError(description: "a boundary delimiter is not followed by a line break")
            }
            position += 2
            guard let headerEnd = Self.find(Array("\r\n\r\n".utf8), in: body, from: position - 2) else {
                throw ParseError(description: "part \(parts.count) has no blank line after its headers")
            }
            let headers = headerEnd > position ? String(decoding: body[position..<headerEnd], as: UTF8.self) : ""
            let bodyStart = headerEnd + 4
            guard let bodyEnd = Self.find(delimiter, in: body, from: bodyStart) else {
                throw ParseError(description: "part \(parts.count) is not closed by a boundary delimiter")
            }
            parts.append(try Self.part(headers: headers, body: Array(body[bodyStart..<bodyEnd]), index: parts.count))
            position = bodyEnd + delimiter.count
        }
    }

    private static func part(headers: String, body: [UInt8], index: Int) throws(ParseError) -> Part {
        var disposition: HeaderParameters?
        var contentType: String?
        for line in headers.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else {
                throw ParseError(description: "part \(index) has a header line without a colon")
            }
            let value = String(line[line.index(after: colon)...]).trimmingWhitespace()
            switch line[..<colon].trimmingWhitespace().lowercased() {
            case "content-disposition": disposition = HeaderParameters(value)
            case "content-type": contentType = value
            default: break
            }
        }
        guard let disposition, disposition.value.lowercased() == "form-data", let name = disposition.parameters["name"] else {
            throw ParseError(description: "part \(index) lacks a Content-Disposition: form-data header with a name")
        }
        return Part(name: name, filename: disposition.parameters["filename"], contentType: contentType, body: body)
    }

    private static func hasPrefix(_ prefix: [UInt8], in bytes: [UInt8], at offset: Int) -> Bool {
        offset + prefix.count <= bytes.count && bytes[offset..<offset + prefix.count].elementsEqual(prefix)
    }

    /// Index of the first occurrence of `needle` at or after `start`. Naive, but a mismatch
    /// almost always shows at the first byte, and bodies are capped by `--max-upload-bytes`.
    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var index = max(start, 0)
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first, hasPrefix(needle, in: bytes, at: index) { return index }
            index += 1
        }
        return nil
    }
}

/// A header value with `; key=value` parameters, such as `form-data; name="files[0]"` or
/// `multipart/form-data; boundary=xyz`; names are matched case-insensitively.
///
/// A quoted value ends at the next quote and a backslash is an ordinary character: clients
/// (curl, browsers, undici) encode form names and filenames the HTML way, writing `"`, CR and
/// LF as `%22`, `%0D`, `%0A`, which arrive here as they were sent.
struct HeaderParameters: Sendable {
    var value: String
    var parameters: [String: String] = [:]

    init(_ header: String) {
        let characters = Array(header)
        var index = 0
        func skipWhitespace() {
            while index < characters.count, characters[index] == " " || characters[index] == "\t" { index += 1 }
        }
        func token(until stops: Set<Character>) -> String {
            var text = ""
            while index < characters.count, !stops.contains(characters[index]) {
                text.append(characters[index])
                index += 1
            }
            return text.trimmingWhitespace()
        }
        value = token(until: [";"])
        while index < characters.count {
            index += 1  // the ";"
            skipWhitespace()
            let name = token(until: ["=", ";"]).lowercased()
            guard index < characters.count, characters[index] == "=" else { continue }
            index += 1
            skipWhitespace()
            var parameter = ""
            if index < characters.count, characters[index] == "\"" {
                index += 1
                while index < characters.count, characters[index] != "\"" {
                    parameter.append(characters[index])
                    index += 1
                }
                index += 1  // the closing quote
                _ = token(until: [";"])  // anything between it and the next ";" is ignored
            } else {
                parameter = token(until: [";"])
            }
            if !name.isEmpty, parameters[name] == nil { parameters[name] = parameter }
        }
    }
}

extension StringProtocol {
    /// Without the spaces and tabs HTTP allows around header values.
    fileprivate func trimmingWhitespace() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
