import Foundation

/// What a request carries. The body decides the request's `Content-Type`, so a caller never
/// has to keep a header and a body in step.
public enum HTTPBody: Sendable, Equatable {
    /// Sent as `application/json`.
    case json(Data)
    /// Sent as `multipart/form-data`, the form Discord requires for file uploads; curl picks the
    /// boundary.
    case multipart([MultipartPart])
}

/// One part of a multipart/form-data body; bytes are carried as they are (binary-safe).
public struct MultipartPart: Sendable, Equatable {
    /// The form field name: `payload_json`, `files[0]`, ...
    public var name: String
    /// Set for file parts; Discord requires one on every `files[n]`.
    public var filename: String?
    /// `application/json`, `image/png`, ...; without one the part goes out with no
    /// `Content-Type` header, which the receiver reads as `text/plain`.
    public var contentType: String?
    public var data: Data

    public init(name: String, filename: String? = nil, contentType: String? = nil, data: Data) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }
}
