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
    /// Open addressing, linear probing. A slot holds the upper 32 bits of its term's hash above
    /// the term's id, so a probe that does not match is told apart without reading the term's
    /// hash, offsets or bytes (a lookup per token, each array a cache line of its own); an id of
    /// -1 marks an empty slot.
    private var slots: [UInt64]
    private var mask: Int

    init(capacity: Int = 1 << 12) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: Self.empty, count: size)
        mask = size - 1
    }

    private static let empty = UInt64(UInt32(bitPattern: -1))

    @inline(__always)
    private static func entry(_ id: Int32, hash: UInt64) -> UInt64 {
        hash & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(bitPattern: id))
    }

    /// Number of distinct terms.
    var count: Int { hashes.count }

    /// FNV-1a over the bytes, then a final mix so that the low bits used for slots are well spread.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }

    /// The id of `bytes`, inserting it when new.
    @inline(__always)
    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        insert(bytes, hash: Self.hash(bytes))
    }

    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
        if let id = find(bytes, hash: hash) { return id }
        if (hashes.count + 1) * 2 > slots.count { grow() }
        let id = Int32(hashes.count)
        arena.append(contentsOf: bytes)
        offsets.append(arena.count)
        hashes.append(hash)
        place(id, hash: hash)
        return id
    }

    /// The id of `bytes`, or nil when absent.
    func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        let tag = hash & 0xFFFF_FFFF_0000_0000
        return slots.withUnsafeBufferPointer { s in
            arena.withUnsafeBufferPointer { a in
                offsets.withUnsafeBufferPointer { o in
                    while true {
                        let entry = s[slot]
                        let id = Int32(truncatingIfNeeded: entry)
                        if id < 0 { return nil }
                        if entry & 0xFFFF_FFFF_0000_0000 == tag {
                            let i = Int(id)
                            if o[i + 1] - o[i] == bytes.count {
                                var equal = true
                                var k = 0
                                let start = o[i]
                                while k < bytes.count {
                                    if a[start + k] != bytes[k] { equal = false; break }
                                    k += 1
                                }
                                if equal { return id }
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
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

    private mutating func place(_ id: Int32, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        slots.withUnsafeMutableBufferPointer { s in
            while Int32(truncatingIfNeeded: s[slot]) >= 0 { slot = (slot + 1) & mask }
            s[slot] = Self.entry(id, hash: hash)
        }
    }

    private mutating func grow() {
        slots = [UInt64](repeating: Self.empty, count: slots.count * 2)
        mask = slots.count - 1
        for i in 0..<hashes.count { place(Int32(i), hash: hashes[i]) }
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
