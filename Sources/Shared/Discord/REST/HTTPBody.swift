import Foundation

/// What a request carries.
public enum HTTPBody: Sendable, Equatable {
    case json(Data)
    case multipart([MultipartPart])
}

/// One part of a multipart/form-data body; bytes are carried as they are (binary-safe).
public struct MultipartPart: Sendable, Equatable {
    public var name: String
    public var filename: String?
    public var contentType: String?
    public var data: Data

    public init(name: String, filename: String? = nil, contentType: String? = nil, data: Data) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }
}
