/// An insert-only hash set of byte strings that gives each distinct string a dense id
/// (0, 1, 2, … in order of first insertion).
///
/// Vectorizing a corpus looks up every token; keying a `Dictionary` by `String` would allocate
/// a string per token, so terms live back to back in one byte arena and the table holds ids.
struct TermTable: Sendable {
    /// Every term's bytes, back to back.
    private(set) var arena: [UInt8] = []
    /// `count + 1` offsets into `arena`: term i is `arena[offsets[i] ..< offsets[i + 1]]`.
    private(set) var offsets: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Open addressing, linear probing, two words per slot: the term's first 8 bytes (zero
    /// padded), then the upper 24 bits of its hash, its length (capped at 255) and its id. A term
    /// of up to 8 bytes — most words — is matched from its slot alone, and a probe that does not
    /// match is told apart without reading the term's offsets or bytes: a lookup per token costs
    /// one cache miss instead of three dependent ones. An id of -1 marks an empty slot.
    private var slots: [UInt64]
    private var mask: Int

    init(capacity: Int = 1 << 12) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Self.emptySlots(size)
        mask = size - 1
    }

    private static func emptySlots(_ count: Int) -> [UInt64] {
        var slots = [UInt64](repeating: 0, count: 2 * count)
        for s in 0..<count { slots[2 * s + 1] = UInt64(UInt32(bitPattern: -1)) }
        return slots
    }

    /// The upper 24 bits of the hash and the length (capped at 255), as they sit above a slot's id.
    @inline(__always)
    private static func signature(hash: UInt64, length: Int) -> UInt64 {
        hash & 0xFFFF_FF00_0000_0000 | UInt64(min(length, 255)) << 32
    }

    /// Number of distinct terms.
    var count: Int { hashes.count }

    /// The first 8 bytes of a term, zero padded, read without touching memory past its end.
    @inline(__always)
    private static func prefix(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = bytes.count
        guard let base = bytes.baseAddress, n > 0 else { return 0 }
        let raw = UnsafeRawPointer(base)
        if n >= 8 { return UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) }
        // Two overlapping reads put every byte at its place; overlapping bytes are equal.
        if n >= 4 {
            let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)))
            return low | high << UInt64(8 * (n - 4))
        }
        return UInt64(base[0]) | UInt64(base[n >> 1]) << UInt64(8 * (n >> 1)) | UInt64(base[n - 1]) << UInt64(8 * (n - 1))
    }

    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    /// A 64-bit hash of the bytes, eight at a time, with well spread low bits (used for slots)
    /// and high bits (kept in slots to tell terms apart).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = bytes.count
        var h = mix(prefix(bytes) ^ UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
        guard n > 8, let base = bytes.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var at = 8
        // Whole words after the first, then the last 8 bytes (overlapping the word before).
        while at + 8 < n {
            h = mix(h ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
            at += 8
        }
        return mix(h ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)))
    }

    /// The id of `bytes`, inserting it when new.
    @inline(__always)
    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        insert(bytes, hash: Self.hash(bytes))
    }

    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
        if let id = find(bytes, hash: hash) { return id }
        if (hashes.count + 1) * 2 > slots.count / 2 { grow() }
        let id = Int32(hashes.count)
        arena.append(contentsOf: bytes)
        offsets.append(arena.count)
        hashes.append(hash)
        place(id, prefix: Self.prefix(bytes), signature: Self.signature(hash: hash, length: bytes.count), hash: hash)
        return id
    }

    /// The id of `bytes`, or nil when absent.
    func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        let key = Self.prefix(bytes)
        let signature = Self.signature(hash: hash, length: bytes.count)
        return slots.withUnsafeBufferPointer { s in
            while true {
                let meta = s[2 * slot + 1]
                let id = Int32(truncatingIfNeeded: meta)
                if id < 0 { return nil }
                if meta & 0xFFFF_FFFF_0000_0000 == signature, s[2 * slot] == key {
                    if bytes.count <= 8 || restMatches(bytes, id: Int(id)) { return id }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Whether term `id`, known to share its first 8 bytes and its capped length with `bytes`,
    /// is `bytes`.
    private func restMatches(_ bytes: UnsafeBufferPointer<UInt8>, id: Int) -> Bool {
        let start = offsets[id]
        guard offsets[id + 1] - start == bytes.count else { return false }
        return arena.withUnsafeBufferPointer { a in
            var k = 8
            while k < bytes.count {
                if a[start + k] != bytes[k] { return false }
                k += 1
            }
            return true
        }
    }

    func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? { find(bytes, hash: Self.hash(bytes)) }

    /// The bytes of term `id`.
    func term(_ id: Int) -> ArraySlice<UInt8> { arena[offsets[id]..<offsets[id + 1]] }

    /// Calls `body` with the bytes of term `id`, without copying them.
    func withTerm<R>(_ id: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try arena.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[offsets[id]..<offsets[id + 1]])) }
    }

    /// The term `id` as a string.
    func string(_ id: Int) -> String { String(decoding: term(id), as: UTF8.self) }

    private mutating func place(_ id: Int32, prefix: UInt64, signature: UInt64, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        slots.withUnsafeMutableBufferPointer { s in
            while Int32(truncatingIfNeeded: s[2 * slot + 1]) >= 0 { slot = (slot + 1) & mask }
            s[2 * slot] = prefix
            s[2 * slot + 1] = signature | UInt64(UInt32(bitPattern: id))
        }
    }

    private mutating func grow() {
        let size = slots.count  // twice the slot count, as slots have two words
        slots = Self.emptySlots(size)
        mask = size - 1
        for i in 0..<hashes.count {
            let (p, length) = withTerm(i) { (Self.prefix($0), $0.count) }
            place(Int32(i), prefix: p, signature: Self.signature(hash: hashes[i], length: length), hash: hashes[i])
        }
    }

    /// Ids ordered by their terms' bytes (UTF-8 byte order is code-point order, which is how
    /// Python sorts strings, so this is scikit-learn's vocabulary order).
    func idsInLexicographicOrder() -> [Int] {
        arena.withUnsafeBufferPointer { a in
            offsets.withUnsafeBufferPointer { o in
                (0..<count).sorted { x, y in
                    let (xs, xe, ys, ye) = (o[x], o[x + 1], o[y], o[y + 1])
                    let n = min(xe - xs, ye - ys)
                    var k = 0
                    while k < n {
                        let (bx, by) = (a[xs + k], a[ys + k])
                        if bx != by { return bx < by }
                        k += 1
                    }
                    return xe - xs < ye - ys
                }
            }
        }
    }
}
