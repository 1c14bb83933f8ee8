import Testing

@testable import NebulaApp

@Suite("Trusted proxy ranges")
struct IPRangeTests {
    @Test("IPv4 and IPv6 blocks, single addresses, mapped IPv4")
    func contains() throws {
        let loopback = try #require(IPRange("127.0.0.0/8"))
        #expect(loopback.contains("127.0.0.1") && loopback.contains("127.255.0.9") && !loopback.contains("128.0.0.1"))
        #expect(loopback.contains("::ffff:127.0.0.1"))
        let one = try #require(IPRange("10.1.2.3"))
        #expect(one.contains("10.1.2.3") && !one.contains("10.1.2.4"))
        let v6 = try #require(IPRange("fd00::/8"))
        #expect(v6.contains("fd12:3456::1") && !v6.contains("fe80::1") && !v6.contains("10.0.0.1"))
        #expect(IPRange("10.0.0.0/12")?.contains("10.15.255.255") == true)
        #expect(IPRange("10.0.0.0/12")?.contains("10.16.0.0") == false)
        #expect(IPRange("0.0.0.0/0")?.contains("8.8.8.8") == true)
        for bad in ["", "caddy", "10.0.0.0/33", "::1/129", "10.0.0.0/x", "1.2.3"] { #expect(IPRange(bad) == nil, "\(bad)") }
        #expect(IPRange("192.168.1.77/24")?.description == "192.168.1.0/24")
        #expect(!loopback.contains("not an address"))
    }
}
