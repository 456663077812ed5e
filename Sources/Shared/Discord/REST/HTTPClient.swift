import CCurl
import Foundation

/// An HTTP response as the connector needs it.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: Data

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A transport failure: no HTTP status came back (connection refused, timeout, TLS error).
public struct HTTPTransportError: Error, CustomStringConvertible {
    public var description: String
}

/// A small HTTP/1.1 client over one libcurl easy handle, which keeps its connection alive
/// between requests. An actor on its own thread, because `curl_easy_perform` blocks.
public actor HTTPClient {
    private let executor: ThreadExecutor
    /// False when the thread is shared (`thread:`): its creator stops it.
    private let ownsExecutor: Bool
    // Touched only on this actor's thread, and in deinit when no one else can.
    nonisolated(unsafe) private let handle: UnsafeMutableRawPointer
    private let timeout: Duration

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// - Parameter thread: a thread shared with other actors of one sequential loop (see
    ///   `ThreadExecutor`); nil: a thread of its own, named `name`.
    public init(timeout: Duration = .seconds(15), name: String = "http", thread: ThreadExecutor? = nil) {
        _ = Self.globalInit
        self.executor = thread ?? ThreadExecutor(name: name)
        self.ownsExecutor = thread == nil
        self.handle = curl_easy_init()
        self.timeout = timeout
    }

    deinit {
        curl_easy_cleanup(handle)
        if ownsExecutor { executor.stop() }
    }

    /// Sends one request and waits for the whole response.
    /// - Parameter body: also sets `Content-Type`; with a body, a `Content-Type` in `headers`
    ///   is left out rather than sent twice (a multipart one would lack curl's boundary).
    public func request(method: String, url: String, headers: [String: String] = [:], body: HTTPBody? = nil) throws(HTTPTransportError) -> HTTPResponse {
        curl_easy_reset(handle)
        let sink = ResponseSink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers where body == nil || name.lowercased() != "content-type" {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        if case .json = body { list = curl_slist_append(list, "Content-Type: application/json") }
        // An empty "Expect:" stops curl from waiting for "100 Continue" on larger bodies.
        list = curl_slist_append(list, "Expect:")
        defer { curl_slist_free_all(list) }

        ccurl_setopt_string(handle, CURLOPT_URL, url)
        ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout.wholeMilliseconds))
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 5000)
        ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        ccurl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            sink.body.append(UnsafeRawPointer(data!).assumingMemoryBound(to: UInt8.self), count: size * count)
            return size * count
        })
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        ccurl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            sink.addHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)
        // The handle reads the parts while it sends, so the MIME tree is freed only after perform.
        var mime: OpaquePointer?
        defer { curl_mime_free(mime) }
        switch body {
        case .json(let data):
            ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, data.count)
            // COPYPOSTFIELDS copies the bytes, so nothing has to outlive this call.
            data.withUnsafeBytes { bytes in
                _ = ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
        case .multipart(let parts):
            mime = try makeMIME(parts, method: method, url: url)
            ccurl_setopt_mime(handle, mime)
        case nil:
            break
        }

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            throw HTTPTransportError(description: "\(method) \(Self.pathOnly(url)) failed: \(String(cString: curl_easy_strerror(code)))")
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// A MIME tree on this handle holding a copy of every part. `curl_mime_data` gets an
    /// explicit size, so NUL bytes are data like any other byte.
    private func makeMIME(_ parts: [MultipartPart], method: String, url: String) throws(HTTPTransportError) -> OpaquePointer {
        func failure(_ reason: String) -> HTTPTransportError {
            HTTPTransportError(description: "\(method) \(Self.pathOnly(url)) failed: multipart body: \(reason)")
        }
        guard let mime = curl_mime_init(handle) else { throw failure("out of memory") }
        for part in parts {
            guard let field = curl_mime_addpart(mime) else {
                curl_mime_free(mime)
                throw failure("out of memory")
            }
            var code = curl_mime_name(field, part.name)
            if code == CURLE_OK, let filename = part.filename { code = curl_mime_filename(field, filename) }
            if code == CURLE_OK, let contentType = part.contentType { code = curl_mime_type(field, contentType) }
            if code == CURLE_OK {
                code = part.data.withUnsafeBytes { bytes in
                    // A nil address would leave the part without content; "" with size 0 is an empty one.
                    guard let base = bytes.baseAddress, !bytes.isEmpty else { return curl_mime_data(field, "", 0) }
                    return curl_mime_data(field, base.assumingMemoryBound(to: CChar.self), bytes.count)
                }
            }
            guard code == CURLE_OK else {
                curl_mime_free(mime)
                throw failure("part '\(part.name)': \(String(cString: curl_easy_strerror(code)))")
            }
        }
        return mime
    }

    /// The URL without its query string, for error messages.
    private static func pathOnly(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}

/// Collects one response's headers and body from curl's callbacks.
final class ResponseSink {
    var body = Data()
    var headers: [String: String] = [:]

    /// One header line as curl hands it over (`Name: value\r\n`), read byte by byte: the name
    /// lowercased (ASCII, as HTTP names are), the value without surrounding spaces or the line end.
    func addHeaderLine(_ raw: UnsafeRawBufferPointer) {
        let line = Array(raw)
        // A new status line (after a redirect or 100 Continue) starts a new header block.
        if line.starts(with: "HTTP/".utf8) { headers.removeAll(); return }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = colon + 1, end = line.count
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let name = line[..<colon].map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }
        headers[String(decoding: name, as: UTF8.self)] = String(decoding: line[start..<end], as: UTF8.self)
    }
}
