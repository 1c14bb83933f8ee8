import Testing

@testable import Redis

@Suite("--redis-url")
struct RedisURLTests {
    @Test("host, port, database, credentials; defaults 6379 and database 0; the description hides the password")
    func parse() throws {
        let full = try #require(RedisURL("redis://nebula:p%40ss@cache.lan:6380/2"))
        #expect(full.host == "cache.lan" && full.port == 6380 && full.database == 2 && !full.tls)
        #expect(full.username == "nebula" && full.password == "p@ss")
        #expect(full.description == "redis://cache.lan:6380/2" && !full.description.contains("p@ss"))
        let plain = try #require(RedisURL("redis://127.0.0.1"))
        #expect(plain.port == 6379 && plain.database == 0 && plain.username == nil && plain.password == nil)
        let passwordOnly = try #require(RedisURL("rediss://:secret@redis.example.org/0"))
        #expect(passwordOnly.tls && passwordOnly.username == nil && passwordOnly.password == "secret")
        for bad in ["http://cache.lan", "redis://", "redis:///0", "redis://cache.lan/x", "redis://cache.lan/-1", "redis://cache.lan:0", "cache.lan:6379"] {
            #expect(RedisURL(bad) == nil, "\(bad)")
        }
    }
}
