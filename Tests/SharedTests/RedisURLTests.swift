import Testing
@testable import Shared

@Suite("RedisURL")
struct RedisURLTests {
    @Test("parses redis:// and unix:// URLs", arguments: [
        ("redis://127.0.0.1:6379", RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 6379))),
        ("redis://localhost", RedisURL(endpoint: .tcp(host: "localhost", port: 6379))),
        ("redis://bus.internal:6380/2", RedisURL(endpoint: .tcp(host: "bus.internal", port: 6380), database: 2)),
        ("redis://bus.internal:6380/", RedisURL(endpoint: .tcp(host: "bus.internal", port: 6380))),
        ("redis://bus/5", RedisURL(endpoint: .tcp(host: "bus", port: 6379), database: 5)),
        ("redis://connector:s3cret@bus:6379/1",
         RedisURL(endpoint: .tcp(host: "bus", port: 6379), username: "connector", password: "s3cret", database: 1)),
        ("redis://:s3cret@bus:6379", RedisURL(endpoint: .tcp(host: "bus", port: 6379), password: "s3cret")),
        ("redis://s3cret@bus", RedisURL(endpoint: .tcp(host: "bus", port: 6379), password: "s3cret")),
        ("redis://us%40er:p%40ss%3Aw%2Fo%25rd@bus:1",
         RedisURL(endpoint: .tcp(host: "bus", port: 1), username: "us@er", password: "p@ss:w/o%rd")),
        ("redis://user:p@ss:word@bus:65535",
         RedisURL(endpoint: .tcp(host: "bus", port: 65535), username: "user", password: "p@ss:word")),
        ("unix:///run/redis/redis.sock", RedisURL(endpoint: .unix(path: "/run/redis/redis.sock"))),
        ("redis+sentinel://s1:26379,s2:26380,s3/mymaster",
         RedisURL(endpoint: .sentinel(nodes: [.init(host: "s1", port: 26379), .init(host: "s2", port: 26380), .init(host: "s3", port: 26379)], master: "mymaster"))),
        ("redis+cluster://n1:7000,n2,n3:7002",
         RedisURL(endpoint: .cluster(nodes: [.init(host: "n1", port: 7000), .init(host: "n2", port: 6379), .init(host: "n3", port: 7002)]))),
        ("redis+sentinel://connector:s3cret@10.0.0.1:26379/bus-primary",
         RedisURL(endpoint: .sentinel(nodes: [.init(host: "10.0.0.1", port: 26379)], master: "bus-primary"), username: "connector", password: "s3cret")),
    ])
    func parses(text: String, expected: RedisURL) throws {
        #expect(try RedisURL(parsing: text) == expected)
    }

    @Test("a sentinel URL prints without its password", arguments: [
        ("redis+sentinel://u:secret-pw@s1:26379,s2:26379/mymaster", "redis+sentinel://s1:26379,s2:26379/mymaster", "redis+sentinel://u:****t-pw@s1:26379,s2:26379/mymaster"),
    ])
    func sentinelDescription(text: String, plain: String, redactedForm: String) throws {
        let url = try RedisURL(parsing: text)
        #expect(url.description == plain)
        #expect(!url.redactedDescription.contains("secret"))
        #expect(url.redactedDescription.hasPrefix("redis+sentinel://u:"))
    }

    @Test("rejects sentinel URLs without a master or with bad addresses", arguments: [
        "redis+sentinel://s1:26379", "redis+sentinel://s1:26379/", "redis+sentinel://s1:0/m", "redis+sentinel://s1:x/m",
        "redis+sentinel:///m", "redis+sentinel://s1:26379/a/b", "redis+cluster://n1:6379/0",
    ])
    func rejectsSentinel(text: String) {
        #expect(throws: RedisURL.ParseError.self) { try RedisURL(parsing: text) }
    }

    @Test("rejects bad schemes, ports, databases and hosts", arguments: [
        "http://127.0.0.1:6379",
        "rediss://127.0.0.1:6379",
        "127.0.0.1:6379",
        "",
        "redis://",
        "redis://:6379",
        "redis://host:",
        "redis://host:0",
        "redis://host:65536",
        "redis://host:-1",
        "redis://host:port",
        "redis://host:6379/db",
        "redis://host:6379/-1",
        "unix://relative/path.sock",
        "unix://",
    ])
    func rejects(text: String) {
        #expect(throws: RedisURL.ParseError.self) { try RedisURL(parsing: text) }
    }

    @Test("a literal '%' that is not an escape is kept, or the URL rejected, never silently altered",
          arguments: ["50%off", "100%", "a%4"])
    func strayPercent(password: String) {
        let url = try? RedisURL(parsing: "redis://:\(password)@bus:6379")
        #expect(url == nil || url?.password == password, "password parsed as \(url?.password ?? "nil")")
    }

    @Test("description and redactedDescription never show the password")
    func hidesCredentials() throws {
        let url = try RedisURL(parsing: "redis://connector:Zq7Rk2Lm9Xw4Tp8N@bus.internal:6380/2")
        #expect(url.description == "redis://bus.internal:6380/2")
        #expect(!url.redactedDescription.contains("Zq7Rk2Lm9Xw4"))
        #expect(url.redactedDescription.contains("bus.internal:6380/2"))
        #expect(url.redactedDescription.contains("connector"))

        let short = try RedisURL(parsing: "redis://:pw@bus")
        #expect(!short.redactedDescription.contains("pw@"))
        #expect(try RedisURL(parsing: "redis://bus:6379").redactedDescription == "redis://bus:6379")
        #expect(try RedisURL(parsing: "unix:///tmp/r.sock").description == "unix:///tmp/r.sock")
    }
}
