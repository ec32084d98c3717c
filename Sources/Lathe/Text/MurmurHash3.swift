/// MurmurHash3 x86 32-bit (Austin Appleby's public-domain reference algorithm), as
/// scikit-learn's `murmurhash3_32(key, seed, positive=False)`: the same bytes give the same
/// signed 32-bit hash, so hashed features land in scikit-learn's columns.
func murmurHash3x86_32(_ key: UnsafeBufferPointer<UInt8>, seed: UInt32 = 0) -> Int32 {
    let c1: UInt32 = 0xCC9E_2D51
    let c2: UInt32 = 0x1B87_3593
    var h = seed
    let blockCount = key.count / 4
    @inline(__always) func mixKey(_ k: UInt32) -> UInt32 {
        var k = k &* c1
        k = (k << 15) | (k >> 17)
        return k &* c2
    }
    for block in 0..<blockCount {
        let i = block * 4
        let k = UInt32(key[i]) | UInt32(key[i + 1]) << 8 | UInt32(key[i + 2]) << 16 | UInt32(key[i + 3]) << 24
        h ^= mixKey(k)
        h = (h << 13) | (h >> 19)
        h = h &* 5 &+ 0xE654_6B64
    }
    let tail = blockCount * 4
    var k: UInt32 = 0
    switch key.count & 3 {
    case 3:
        k ^= UInt32(key[tail + 2]) << 16
        fallthrough
    case 2:
        k ^= UInt32(key[tail + 1]) << 8
        fallthrough
    case 1:
        k ^= UInt32(key[tail])
        h ^= mixKey(k)
    default:
        break
    }
    h ^= UInt32(truncatingIfNeeded: key.count)
    h ^= h >> 16
    h = h &* 0x85EB_CA6B
    h ^= h >> 13
    h = h &* 0xC2B2_AE35
    h ^= h >> 16
    return Int32(bitPattern: h)
}
