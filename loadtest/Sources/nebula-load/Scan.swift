// A zero-allocation scanner for the few JSON shapes of Nebula protocol v1 that the load tool reads.
//
// Replies:  {"id": N, "result": {"offset": o, ...}} / {"id": N, "error": {"code": "...", ...}}
// Pushes:   {"channel": C, "offset": o, "data": {"seq": k, "ts": t, ...}}
//
// Key order is irrelevant, unknown keys and values of any type are skipped. A reply is recognised by the
// presence of a top-level "id" (also `"id": null`), a push by its absence.

struct Parsed {
    var hasId = false
    var id: Int64 = -1
    var hasResult = false
    var hasError = false
    var errorCode: String? = nil
    var offset: Int64 = -1  // push: top-level offset; reply: result.offset
    var hasChannel = false
    var seq: Int64 = -1  // push: data.seq
    var ts: Int64 = -1  // push: data.ts
    var ok = true  // false when the text is not a JSON object we could walk
}

private let kId: [UInt8] = Array("id".utf8)
private let kResult: [UInt8] = Array("result".utf8)
private let kError: [UInt8] = Array("error".utf8)
private let kOffset: [UInt8] = Array("offset".utf8)
private let kChannel: [UInt8] = Array("channel".utf8)
private let kData: [UInt8] = Array("data".utf8)
private let kSeq: [UInt8] = Array("seq".utf8)
private let kTs: [UInt8] = Array("ts".utf8)
private let kCode: [UInt8] = Array("code".utf8)

private let cQuote: UInt8 = 0x22, cBackslash: UInt8 = 0x5C, cLBrace: UInt8 = 0x7B, cRBrace: UInt8 = 0x7D
private let cLBracket: UInt8 = 0x5B, cRBracket: UInt8 = 0x5D, cColon: UInt8 = 0x3A, cComma: UInt8 = 0x2C
private let cMinus: UInt8 = 0x2D

struct JSONScanner {
    let p: UnsafeRawBufferPointer
    var i = 0
    var failed = false

    init(_ p: UnsafeRawBufferPointer) { self.p = p }

    @inline(__always) mutating func skipWS() {
        while i < p.count {
            let c = p[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    @inline(__always) mutating func expect(_ c: UInt8) -> Bool {
        skipWS()
        if i < p.count && p[i] == c { i += 1; return true }
        failed = true
        return false
    }

    /// Reads a string starting at the current quote; returns the raw (unescaped-as-is) byte range.
    mutating func readString() -> Range<Int>? {
        skipWS()
        guard i < p.count, p[i] == cQuote else { failed = true; return nil }
        i += 1
        let start = i
        while i < p.count {
            let c = p[i]
            if c == cBackslash { i += 2; continue }
            if c == cQuote { let r = start..<i; i += 1; return r }
            i += 1
        }
        failed = true
        return nil
    }

    @inline(__always) func keyEquals(_ r: Range<Int>, _ k: [UInt8]) -> Bool {
        if r.count != k.count { return false }
        var j = 0
        while j < k.count {
            if p[r.lowerBound + j] != k[j] { return false }
            j += 1
        }
        return true
    }

    /// Integer value (fraction/exponent are skipped). Returns nil (and skips the value) if not a number.
    mutating func readInt() -> Int64? {
        skipWS()
        guard i < p.count else { failed = true; return nil }
        var neg = false
        if p[i] == cMinus { neg = true; i += 1 }
        guard i < p.count, p[i] >= 0x30, p[i] <= 0x39 else {
            if neg { failed = true; return nil }
            skipValue()
            return nil
        }
        var v: Int64 = 0
        while i < p.count, p[i] >= 0x30, p[i] <= 0x39 {
            v = v &* 10 &+ Int64(p[i] &- 0x30)
            i += 1
        }
        // fraction / exponent
        while i < p.count {
            let c = p[i]
            if c == 0x2E || c == 0x65 || c == 0x45 || c == 0x2B || c == cMinus || (c >= 0x30 && c <= 0x39) {
                i += 1
            } else { break }
        }
        return neg ? -v : v
    }

    mutating func skipValue() {
        skipWS()
        guard i < p.count else { failed = true; return }
        let c = p[i]
        if c == cQuote { _ = readString(); return }
        if c == cLBrace || c == cLBracket {
            var depth = 0
            while i < p.count {
                let d = p[i]
                if d == cQuote { _ = readString(); if failed { return }; continue }
                if d == cLBrace || d == cLBracket { depth += 1 } else if d == cRBrace || d == cRBracket {
                    depth -= 1
                    if depth == 0 { i += 1; return }
                }
                i += 1
            }
            failed = true
            return
        }
        // number, true, false, null
        while i < p.count {
            let d = p[i]
            if d == cComma || d == cRBrace || d == cRBracket || d == 0x20 || d == 0x0A || d == 0x0D || d == 0x09 {
                return
            }
            i += 1
        }
    }

    /// Walks an object, calling `onKey` with each key range; `onKey` must consume the value.
    mutating func object(_ onKey: (inout JSONScanner, Range<Int>) -> Void) {
        guard expect(cLBrace) else { return }
        skipWS()
        if i < p.count && p[i] == cRBrace { i += 1; return }
        while !failed {
            guard let k = readString() else { return }
            guard expect(cColon) else { return }
            onKey(&self, k)
            if failed { return }
            skipWS()
            guard i < p.count else { failed = true; return }
            if p[i] == cComma { i += 1; continue }
            if p[i] == cRBrace { i += 1; return }
            failed = true
        }
    }

    @inline(__always) func peekIsObject() -> Bool {
        var j = i
        while j < p.count, p[j] == 0x20 || p[j] == 0x0A || p[j] == 0x0D || p[j] == 0x09 { j += 1 }
        return j < p.count && p[j] == cLBrace
    }
}

func parseMessage(_ p: UnsafeRawBufferPointer) -> Parsed {
    var out = Parsed()
    var s = JSONScanner(p)
    s.object { s, k in
        if s.keyEquals(k, kId) {
            out.hasId = true
            out.id = s.readInt() ?? -1
        } else if s.keyEquals(k, kChannel) {
            out.hasChannel = true
            s.skipValue()
        } else if s.keyEquals(k, kOffset) {
            out.offset = s.readInt() ?? -1
        } else if s.keyEquals(k, kData) {
            guard s.peekIsObject() else { s.skipValue(); return }
            s.object { s, k in
                if s.keyEquals(k, kSeq) {
                    out.seq = s.readInt() ?? -1
                } else if s.keyEquals(k, kTs) {
                    out.ts = s.readInt() ?? -1
                } else {
                    s.skipValue()
                }
            }
        } else if s.keyEquals(k, kResult) {
            out.hasResult = true
            guard s.peekIsObject() else { s.skipValue(); return }
            s.object { s, k in
                if s.keyEquals(k, kOffset) { out.offset = s.readInt() ?? -1 } else { s.skipValue() }
            }
        } else if s.keyEquals(k, kError) {
            out.hasError = true
            guard s.peekIsObject() else { s.skipValue(); return }
            s.object { s, k in
                if s.keyEquals(k, kCode) {
                    if let r = s.readString() {
                        out.errorCode = String(decoding: UnsafeRawBufferPointer(rebasing: s.p[r]), as: UTF8.self)
                    }
                } else {
                    s.skipValue()
                }
            }
        } else {
            s.skipValue()
        }
    }
    out.ok = !s.failed
    return out
}
